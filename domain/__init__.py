"""What the product knows and decides (see ARCHITECTURE.md).

Importing the package installs the guard at the storage edge (domain/privacy_wall.py) on every
SQLAlchemy session of the process, so no code path that uses the domain can store identifying
data or over-long text in a free-text column.
"""

from domain import privacy_wall as _privacy_wall

_privacy_wall.install()
