"""Log files: lines classified by the agent and by rules, kept until acknowledged."""
