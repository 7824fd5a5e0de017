"""``python -m domain.inventory``: print the inventory as Markdown."""

from domain.inventory import markdown

print(markdown(), end="")
