"""Questions as people type them → what to search for: typos repaired, English translated, synonyms added."""
