"""Affect: reading how the user feels (GoEmotions' 27 emotions + neutral, valence, arousal)."""

from .classifier import LABELS
from .reading import VALENCE_AROUSAL, EmotionReader, guidance, read_emotion, use_embedder

__all__ = ["LABELS", "VALENCE_AROUSAL", "EmotionReader", "guidance", "read_emotion", "use_embedder"]
