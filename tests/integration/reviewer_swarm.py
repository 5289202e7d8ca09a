"""One console process's reviewers, for test_scale_out: `python -m tests.integration.reviewer_swarm N IDS...`.

N threads, each a reviewer who opens every return (reads its version), then decides each, in an order of its
own. Prints one JSON line per attempt: {"id", "outcome": "decided" | "conflict" | "not_allowed" | "error", "message"}.
"""
from __future__ import annotations

import json
import random
import sys
import threading

from db.demo import business, user
from db.uow import Actor, unit_of_work
from dokani.errors import Conflict, NotAllowed
from dokani.returns.decisions import decide_return
from dokani.returns.rows import fetch_return

DECIDERS = ("owner", "admin", "reviewer")


def reviewer(n: int, ids: list[int], out: list) -> None:
    u = user("atlas", DECIDERS[n % len(DECIDERS)])
    actor = Actor(user_id=u.user_id, business_id=business("atlas").business_id, role=u.role, email=u.email)
    with unit_of_work(actor) as uow:  # what this reviewer's page showed
        seen = {i: fetch_return(uow.session, actor.business_id, return_id=i)["version"] for i in ids}
    order = list(ids)
    random.Random(n).shuffle(order)
    for i in order:
        try:
            with unit_of_work(actor) as uow:
                decide_return(uow, i, "approve", expected_version=seen[i])
            out.append({"id": i, "outcome": "decided"})
        except Conflict as err:
            out.append({"id": i, "outcome": "conflict", "message": str(err)})
        except NotAllowed as err:
            out.append({"id": i, "outcome": "not_allowed", "message": str(err)})
        except Exception as err:  # anything else is a failure the test reports
            out.append({"id": i, "outcome": "error", "message": f"{type(err).__name__}: {err}"})


def main() -> None:
    threads, ids = int(sys.argv[1]), [int(a) for a in sys.argv[2:]]
    out: list = []
    workers = [threading.Thread(target=reviewer, args=(n, ids, out))
               for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for line in out:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
