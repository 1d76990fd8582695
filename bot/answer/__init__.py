"""The answer layer: question analysis → candidate quotes → an answer form → abstention."""

from bot.answer.calibration import CALIBRATION, FEATURES, calibrated, load_calibration, never_abstaining
from bot.answer.candidates import SCORER_FEATURES, Candidate
from bot.answer.composer import MAX_QUOTES, Composer
from bot.answer.features import MAX_QUOTE_CHARS, _occurrences, clause_cuts, clause_window
from bot.answer.model import Answer, Corroboration, Quote, Source
from bot.answer.question import focus_words, question_type

__all__ = ["CALIBRATION", "FEATURES", "MAX_QUOTES", "MAX_QUOTE_CHARS", "SCORER_FEATURES", "Answer", "Candidate",
           "Composer", "Corroboration", "Quote", "Source", "_occurrences", "calibrated", "clause_cuts", "clause_window", "focus_words",
           "load_calibration", "never_abstaining", "question_type"]
