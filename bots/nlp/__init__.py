"""Language processing: language detection, normalisation, FAQ retrieval, sentiment."""
