"""Helpers shared by the tests and their fixtures. Nothing in here is collected: test modules
import from here, never from one another."""
