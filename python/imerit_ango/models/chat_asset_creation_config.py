"""Configuration of ``SDK.upload_chat_assets``."""
from dataclasses import dataclass, field
from typing import Any, Dict, Optional


@dataclass
class LLMConfig:
    """Which LLM configuration (by id) dynamic chat assets use."""
    id: str

    def __post_init__(self) -> None:
        if not isinstance(self.id, str):
            raise ValueError(f"LLMConfig.id must be a string, got {type(self.id).__name__}")


@dataclass
class NamingStrategy:
    """How new chat assets are named (``"random"`` by default)."""
    type: str


@dataclass
class ChatAssetCreationConfig:
    """How many chat assets to create, where to store them and which LLM backs them."""
    number_of_assets: int = 0
    storage_id: Optional[str] = None
    bucket_name: Optional[str] = None
    llm_config: Optional[LLMConfig] = None
    naming_strategy: Optional[NamingStrategy] = field(default_factory=lambda: NamingStrategy("random"))
    conversation_json: Optional[str] = None

    def __post_init__(self) -> None:
        for name in ("storage_id", "bucket_name"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
        if self.llm_config is not None and not isinstance(self.llm_config, LLMConfig):
            raise ValueError("llm_config must be of type LLMConfig or None")
        # Without a conversation file, the count is what creates assets.
        if self.conversation_json is None and (
                isinstance(self.number_of_assets, bool) or not isinstance(self.number_of_assets, int)
                or self.number_of_assets <= 0):
            raise ValueError("number_of_assets is required and it must be an integer larger than 0")

    @staticmethod
    def from_dict(data: Dict[str, Any]) -> "ChatAssetCreationConfig":
        llm = data.get("llm_config")
        return ChatAssetCreationConfig(
            number_of_assets=data.get("number_of_assets", 0),
            storage_id=data.get("storage_id"),
            bucket_name=data.get("bucket_name"),
            llm_config=LLMConfig(**llm) if llm else None,
            naming_strategy=data.get("naming_strategy", NamingStrategy("random")),
            conversation_json=data.get("conversation_json"),
        )
