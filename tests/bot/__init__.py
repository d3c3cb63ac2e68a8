"""Tests of the platform-neutral bot core and the console."""
