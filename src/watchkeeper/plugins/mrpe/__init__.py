"""MRPE: Nagios plugins run by the agent on the host, their results sent with its output."""
