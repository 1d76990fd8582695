"""Seed files → Documents: decoding, shape detection, and one reader per shape."""

from embeddings.documents.corpus import (MAX_FILE_BYTES, SEED_SUFFIXES, load_corpus, read_document, read_file,
                                         repeated_paragraphs, seed_files)
from embeddings.documents.decoding import decode
from embeddings.documents.metadata import date_line, parse_date, source_from_url, split_title_suffix, strip_html
from embeddings.documents.model import Corpus, Document, LoadWarning, Paragraph, UnreadableFile

__all__ = ["MAX_FILE_BYTES", "SEED_SUFFIXES", "Corpus", "Document", "LoadWarning", "Paragraph", "UnreadableFile",
           "date_line", "decode", "load_corpus", "parse_date", "read_document", "read_file", "repeated_paragraphs",
           "seed_files", "source_from_url", "split_title_suffix", "strip_html"]
