"""Built-in skills. Each is an ordinary `Skill`, enabled by name in bots.yaml."""
