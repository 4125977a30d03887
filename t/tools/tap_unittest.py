#!/usr/bin/python3
"""Runs the unittest tests of one file and reports them in TAP, the one
format t/run-all counts:

    t/tools/tap_unittest.py t/provider/test_provider.py

One line per test: "ok N - id", "ok N - id # SKIP reason", "not ok N - id
# TODO expected failure" (an expectedFailure that failed), or "not ok N -
id" followed by its traceback as "# " lines. The plan comes last, so a run
that dies half-way has none and counts as failed. What a test prints is
held back (unittest's buffer) and shown only with its failure, so that it
cannot be taken for TAP. Exit status 1 on any failure.
"""
import importlib.util
import os
import sys
import unittest


class TAPResult(unittest.TestResult):
    def __init__(self, out):
        super().__init__()
        self.buffer = True
        self.out = out
        self.n = 0
        self.in_test = False

    def emit(self, ok, name, directive="", problems=()):
        self.n += 1
        line = "%s %d - %s" % ("ok" if ok else "not ok", self.n,
                               name.replace("#", "\\#"))
        if directive:
            line += " # " + directive
        self.out.write(line + "\n")
        for text in problems:
            for l in text.rstrip("\n").split("\n"):
                self.out.write("# " + l + "\n")
        self.out.flush()

    def startTest(self, test):
        super().startTest(test)
        self.in_test = True
        self.problems = []
        self.directive = ""

    def stopTest(self, test):
        super().stopTest(test)
        self.in_test = False
        if self.directive.startswith("SKIP"):
            self.emit(True, test.id(), self.directive)
        elif self.directive.startswith("TODO"):
            self.emit(False, test.id(), self.directive)
        else:
            self.emit(not self.problems, test.id(), "", self.problems)

    # Failures in setUpClass/setUpModule and their teardowns come outside
    # any test: each is a test of its own, else it would go uncounted.
    def outside(self, test, text):
        self.emit(False, str(test), "", [text])

    def addError(self, test, err):
        super().addError(test, err)
        if self.in_test:
            self.problems.append(self.errors[-1][1])
        else:
            self.outside(test, self.errors[-1][1])

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.problems.append(self.failures[-1][1])

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.problems.append("%s\n%s" % (subtest, self._exc_info_to_string(
                err, test)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        if self.in_test:
            self.directive = "SKIP " + reason
        else:
            # A class or module skipped as a whole: its tests never start.
            self.emit(True, str(test), "SKIP " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.directive = "TODO expected failure"

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.problems.append("unexpected success (marked expectedFailure)")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: tap_unittest.py TEST_FILE")
    path = os.path.abspath(sys.argv[1])
    # As when the file is run as a script: its directory first on the path.
    sys.path.insert(0, os.path.dirname(path))
    sys.argv = [path]
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    out = sys.stdout
    result = TAPResult(out)
    try:
        spec.loader.exec_module(module)
        suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    except Exception:
        import traceback
        result.emit(False, "load " + sys.argv[0], "",
                    [traceback.format_exc()])
        out.write("1..%d\n" % result.n)
        return 1
    suite.run(result)
    out.write("1..%d\n" % result.n)
    out.flush()
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
