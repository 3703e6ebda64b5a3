"""Servers written as learners write them, each with one typical bug.

Plain ``socket`` + ``threading`` code. Each server is a function that takes
a listening socket and runs the accept loop, or, for Blackjack, a subclass
of the correct learner server that changes one method; each docstring names
its bug. tests/test_check.py checks that ``labkit check`` catches every one,
by the case that names it.
"""
