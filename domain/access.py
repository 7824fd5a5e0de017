"""Who is asking: a forum member with their forum (the result of the access checks in
domain.forums). Its own module so that domain.audit can name it without importing forums."""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import Forum, Member, Role


@dataclass(frozen=True)
class Access:
    """The member making a request, with their forum."""

    forum: Forum
    member: Member

    @property
    def is_coordinator(self) -> bool:
        return self.member.role in (Role.COORDINATOR, Role.ADMIN)
