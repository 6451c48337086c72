"""LLM configurations for chat assets."""
from typing import Any, Dict, Optional

from imerit_ango import _native
from imerit_ango.models.enums import LlmProvider


class LLM:
    """An LLM connection (``SDK.create_llm``)."""

    def __init__(self, name: str, provider: LlmProvider, model: str, api_key: str,
                 base_url: Optional[str] = None, is_streamable: bool = False) -> None:
        self.name = name
        self.provider = provider
        self.model = model
        self.api_key = api_key
        self.base_url = base_url
        self.is_streamable = is_streamable

    def to_dict(self) -> Dict[str, Any]:
        return _native.model_to_dict("LLM", self)

    def __repr__(self) -> str:
        # Never show the provider key.
        return f"LLM(name={self.name!r}, provider={self.provider!r}, model={self.model!r})"
