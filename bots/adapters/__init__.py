"""Channel adapters: each translates one platform to `Message` / `Reply` and back, nothing more."""
