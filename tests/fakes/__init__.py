"""Fakes of platforms the tests cannot reach, speaking their real wire formats."""
