"""Export options (``ExportOptions``) and their time filter (``TimeFilter``).

Attribute holders; the query parameters are written by the core.
"""
from datetime import datetime
from typing import Any, Dict, List, Optional

from imerit_ango import _native
from imerit_ango.models.enums import ExportFormats, ExportTypes, TaskTypes


class TimeFilter:
    """A ``from_date``/``to_date`` window on a timestamp (either end may be open)."""

    def __init__(self, from_date: Optional[datetime] = None, to_date: Optional[datetime] = None) -> None:
        self.from_date = from_date
        self.to_date = to_date

    def toDict(self) -> Dict[str, Any]:
        return _native.model_to_dict("TimeFilter", self)

    def to_json(self) -> str:
        return _native.dumps(self.toDict())


class ExportOptions:
    """What to export and how (``SDK.exportV3(project_id, options)``)."""

    def __init__(self,
                 stage: Optional[List[str]] = None,
                 batches: Optional[List[str]] = None,
                 task_type: Optional[TaskTypes] = None,
                 export_format: ExportFormats = ExportFormats.JSON,
                 export_type: ExportTypes = ExportTypes.TASK,
                 include_key_frames_only: bool = False,
                 include_idle_blur_durations: bool = False,
                 send_email: bool = False,
                 include_metadata: bool = True,
                 include_history: bool = True,
                 notify: bool = False,
                 updated_at: Optional[TimeFilter] = None,
                 created_at: Optional[TimeFilter] = None
                 ) -> None:
        if task_type is None:
            task_type = TaskTypes.DEFAULT
        # The official default: only Complete tasks, unless a task type says otherwise.
        if stage is None and task_type is TaskTypes.DEFAULT:
            stage = ['Complete']
        self.stage = stage
        self.batches = batches
        self.task_types = [task_type]
        self.export_format = export_format
        self.export_type = export_type
        self.include_key_frames_only = include_key_frames_only
        self.send_email = send_email
        self.include_metadata = include_metadata
        self.include_history = include_history
        self.notify = notify
        self.updated_at = updated_at
        self.created_at = created_at
        self.include_idle_blur_durations = include_idle_blur_durations

    def toDict(self) -> Dict[str, Any]:
        """The export query parameters (all strings), as the core sends them."""
        return _native.model_to_dict("ExportOptions", self)
