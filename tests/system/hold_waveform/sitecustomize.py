"""Loaded by a test's server process (PYTHONPATH): when heartlink.lib.media is imported, its
waveform() is wrapped so that each call first writes HOLD_WAVEFORM + ".entered", then waits
(a blocking open of the FIFO HOLD_WAVEFORM) until the test opens that FIFO. A test can so
hold a decode in the middle and see what the server does meanwhile, without timing anything."""
import importlib.abc
import os
import sys

HOLD = os.environ.get("HOLD_WAVEFORM")


class _Wrap(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "heartlink.lib.media":
            return None
        sys.meta_path.remove(self)
        try:
            import importlib.util

            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        loader_exec = spec.loader.exec_module

        def exec_module(module):
            loader_exec(module)
            real = module.waveform

            def held(*args):
                with open(HOLD + ".entered", "w"):
                    pass
                os.close(os.open(HOLD, os.O_RDONLY))  # blocks this thread until the test writes
                return real(*args)

            module.waveform = held

        spec.loader.exec_module = exec_module
        return spec


if HOLD:
    sys.meta_path.insert(0, _Wrap())
