"""Organization invitations and role changes."""
from typing import Any, Dict, List, Optional

from imerit_ango import _native
from imerit_ango.models.enums import OrganizationRoles, ProjectRoles


class ProjectAssignment:
    """A project and the role an invited user gets in it."""

    def __init__(self, project_id: str, project_role: ProjectRoles) -> None:
        self.project_id = project_id
        self.project_role = project_role

    def toDict(self) -> Dict[str, Any]:
        return _native.model_to_dict("ProjectAssignment", self)


class Invitation:
    """An invitation of users (emails) to the organization."""

    def __init__(self, to: List[str], organization_role: OrganizationRoles,
                 project_assignments: Optional[List[ProjectAssignment]] = None) -> None:
        self.to = to
        self.organization_role = organization_role
        self.project_assignments = project_assignments

    def toDict(self) -> Dict[str, Any]:
        return _native.model_to_dict("Invitation", self)


class RoleUpdate:
    """A new organization role for a member."""

    def __init__(self, email: str, organization_role: OrganizationRoles) -> None:
        self.email = email
        self.organization_role = organization_role

    def toDict(self) -> Dict[str, Any]:
        return _native.model_to_dict("RoleUpdate", self)


class ProjectMember:
    """A project member and their role."""

    def __init__(self, email: str, project_role: ProjectRoles) -> None:
        self.email = email
        # The official class stores the role under this plural name; kept for compatibility.
        self.project_roles = project_role

    @property
    def project_role(self) -> ProjectRoles:
        return self.project_roles

    def toDict(self) -> Dict[str, Any]:
        return {'to': self.email, 'projectRole': self.project_roles.value}
