#!/usr/bin/python3
"""The benchmark's PostgreSQL, for the configurations that keep sessions
in mod_session_dbd ((g), and the nodes of (h1) and (h2)):

    /usr/bin/python3 bench/pg.py RUN_DIR

Starts a throw-away cluster with t/cluster/cluster.py's Postgres (its own
directory under /tmp, 127.0.0.1 on a free port, the unix socket in that
directory, fsync off, as user postgres when run as root), with
mod_session_dbd's table and pg_stat_statements, from which bench/bench.py
counts the queries each request makes. Prints "PORT DIRECTORY" and writes
the postmaster's pid to RUN_DIR/postgres.pid; the cluster outlives this
script, and bench/run stops it (SIGINT to the postmaster) and removes
the directory.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "t", "cluster"))
import cluster  # noqa: E402


def main():
    run_dir = sys.argv[1]
    # pg_stat_statements counts in shared memory as each statement ends;
    # pg_stat_database's counters reach readers only a second or more later.
    pg = cluster.Postgres(settings={"shared_preload_libraries": "pg_stat_statements"})
    try:
        pg.psql("CREATE EXTENSION pg_stat_statements")
        with open(os.path.join(pg.data, "postmaster.pid")) as f:
            postmaster = f.readline().strip()
        with open(os.path.join(run_dir, "postgres.pid"), "w") as f:
            f.write(postmaster + "\n")
    except BaseException:
        pg.close()
        raise
    print(pg.port, pg.dir)


if __name__ == "__main__":
    main()
