"""The local mail server: how many messages wait in its queue, since when, and why."""
