"""Built-in zh/en texts (messages.yaml)."""
