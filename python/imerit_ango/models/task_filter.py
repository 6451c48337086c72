"""Task filters for ``SDK.get_tasks(task_filter=...)``.

Attribute holders; the Mongo-style filter JSON is written by the core.
"""
from datetime import datetime
from typing import Any, Dict, List, Optional, Union

from imerit_ango import _native


class DateRange:
    """A date window: any of ``gt``, ``gte``, ``lt``, ``lte``."""

    def __init__(self, gt: Optional[datetime] = None, gte: Optional[datetime] = None,
                 lt: Optional[datetime] = None, lte: Optional[datetime] = None) -> None:
        self.gt = gt
        self.gte = gte
        self.lt = lt
        self.lte = lte

    def toDict(self) -> Dict[str, str]:
        return _native.model_to_dict("DateRange", self)

    def is_empty(self) -> bool:
        return not self.toDict()


class NumberRange:
    """A numeric condition: any of ``eq``, ``ne``, ``gt``, ``gte``, ``lt``, ``lte``."""

    def __init__(self, eq: Optional[Union[int, float]] = None, ne: Optional[Union[int, float]] = None,
                 gt: Optional[Union[int, float]] = None, gte: Optional[Union[int, float]] = None,
                 lt: Optional[Union[int, float]] = None, lte: Optional[Union[int, float]] = None) -> None:
        self.eq = eq
        self.ne = ne
        self.gt = gt
        self.gte = gte
        self.lt = lt
        self.lte = lte

    def toDict(self) -> Dict[str, Union[int, float]]:
        return _native.model_to_dict("NumberRange", self)

    def is_empty(self) -> bool:
        return not self.toDict()


class StringFilter:
    """A string condition: any of ``eq``, ``ne``, ``regex``, ``in_list``, ``nin``, ``exists``."""

    def __init__(self, eq: Optional[str] = None, ne: Optional[str] = None, regex: Optional[str] = None,
                 in_list: Optional[List[str]] = None, nin: Optional[List[str]] = None,
                 exists: Optional[bool] = None) -> None:
        self.eq = eq
        self.ne = ne
        self.regex = regex
        self.in_list = in_list
        self.nin = nin
        self.exists = exists

    def toDict(self) -> Dict[str, Any]:
        return _native.model_to_dict("StringFilter", self)

    def is_empty(self) -> bool:
        return not self.toDict()


class TaskFilter:
    """Conditions on tasks; fields left as ``None`` do not filter."""

    def __init__(self,
                 stage: Optional[Union[str, List[str], StringFilter]] = None,
                 batches: Optional[Union[List[str], StringFilter]] = None,
                 status: Any = None,
                 review_status: Any = None,
                 task_type: Any = None,
                 assignee: Optional[Union[str, StringFilter]] = None,
                 external_id: Optional[Union[str, StringFilter]] = None,
                 created_at: Optional[DateRange] = None,
                 updated_at: Optional[DateRange] = None,
                 created_by: Optional[Union[str, StringFilter]] = None,
                 updated_by: Optional[Union[str, StringFilter]] = None,
                 priority: Optional[Union[int, NumberRange]] = None,
                 duration: Optional[NumberRange] = None,
                 total_duration: Optional[NumberRange] = None,
                 open_issues_count: Optional[Union[int, NumberRange]] = None,
                 is_draft: Optional[bool] = None,
                 is_skipped: Optional[bool] = None,
                 is_benchmark: Optional[bool] = None) -> None:
        self.stage = stage
        self.batches = batches
        self.status = status
        self.review_status = review_status
        self.task_type = task_type
        self.assignee = assignee
        self.external_id = external_id
        self.created_at = created_at
        self.updated_at = updated_at
        self.created_by = created_by
        self.updated_by = updated_by
        self.priority = priority
        self.duration = duration
        self.total_duration = total_duration
        self.open_issues_count = open_issues_count
        self.is_draft = is_draft
        self.is_skipped = is_skipped
        self.is_benchmark = is_benchmark

    def toDict(self) -> Dict[str, Any]:
        return _native.model_to_dict("TaskFilter", self)

    def to_json(self) -> str:
        return _native.dumps(self.toDict())

    def is_empty(self) -> bool:
        return not self.toDict()
