"""The offline harness: the real program run under Pulumi mocks, with the config the engine would
give it. Used by the tests and the operator tools (render, release, doctor); never by the program.
"""
