"""Domain models, one module per concept."""
from supportapp.models.appeal import Appeal, AppealVariant
from supportapp.models.story import Story

__all__ = ["Appeal", "AppealVariant", "Story"]
