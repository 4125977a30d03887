"""Shared by the test servers: stop when the process that started them is gone.

A test driver killed outright (SIGPIPE from "| head", SIGKILL) runs no END
block to stop the servers it started; they notice being orphaned instead.
"""
import os
import threading
import time


def exit_with_parent(stop):
    """Call stop() once this process has been re-parented (checked every 0.5 s)."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        stop()

    threading.Thread(target=watch, daemon=True).start()
