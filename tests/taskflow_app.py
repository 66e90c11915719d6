"""A FastAPI app on the real fastapi-taskflow library whose tasks end in every status it stores.

`write_history(backend, retry_delay)` starts the app's TaskManager on a snapshot backend, drives it over HTTP
in-process (httpx's ASGI transport), and shuts it down, so the backend holds what a real app leaves:

* `send_welcome` x3: success, non-ASCII log lines; the second one (zoë@) on its second attempt.
* `sync_invoices`: fails twice, then succeeds (retries_used 2, two `--- Retry N ---` separators).
* `send_report`: fails on all three attempts (retries_used 2, two separators, multi-line log lines).
* `ping_partner`: fails on all three attempts without logging: its logs are the two separators alone.
* `export_csv`: cancelled mid-run through the dashboard API (`POST /tasks/{id}/cancel`).
* `rebuild_index`: fails once, then is still running at shutdown: interrupted (retries_used 1).
* `make_thumbnail` x2 in one request to a queue of `max_size=1`: one success, one rejected.

`write_one_task(backend)` starts the app again on the same backend and runs one more `send_welcome`.

`write_retried(backend, task_id)` starts the app again and retries a failed task through the dashboard API
(`POST /tasks/{id}/retry`): the library deletes the original and stores the new task, with a new id.

`write_requeued(new_backend, retry_delay)` runs `reindex_catalog` (`requeue_on_interrupt=True`): it fails its
first attempt, is still running its second one at shutdown, and the restarted app runs it again from scratch,
to a success. The library stores it with `retries_used = 1` and only the lines of the run after the restart.
"""

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import httpx
from fastapi import Depends, FastAPI, HTTPException
from fastapi_taskflow import (
    ManagedBackgroundTasks,
    QueueConfig,
    QueueFullError,
    SnapshotBackend,
    TaskAdmin,
    TaskManager,
    get_task_context,
    task_log,
)

FAST_RETRY_DELAY = 0.05
FINISHED = frozenset({"success", "failed", "cancelled", "interrupted", "rejected"})
REPORT_TOTALS = "Totals:\n  orders: 12\n  refunds: 1"
REPORT_ERROR = "report for 2026-11-20: no rows in ledger – aborting"


def build_app(manager: TaskManager, retry_delay: float) -> FastAPI:
    """The app: its tasks (retried after `retry_delay` seconds) and the routes that enqueue them."""

    @manager.task(retries=1, delay=retry_delay)
    async def send_welcome(email: str) -> None:
        task_log(f"Sending welcome mail to {email}")
        context = get_task_context()
        if email.startswith("zoë") and context is not None and context.attempt == 0:
            raise ConnectionRefusedError("mail server busy")
        task_log("Grüße an Zoë Ångström ✓")

    @manager.task(retries=2, delay=retry_delay)
    def sync_invoices(batch: int) -> None:
        context = get_task_context()
        attempt = context.attempt if context else 0
        task_log(f"Posting batch {batch} (attempt {attempt})")
        if attempt < 2:
            task_log("Ledger did not answer", level="warning")
            raise ConnectionError("ledger timeout")
        task_log(f"Batch {batch} posted")

    @manager.task(retries=2, delay=retry_delay, backoff=2.0)
    def send_report(day: str) -> None:
        task_log(f"Rendering report for {day}")
        task_log(REPORT_TOTALS)
        raise ValueError(REPORT_ERROR)

    @manager.task(retries=2, delay=retry_delay)
    async def ping_partner(url: str) -> None:
        raise TimeoutError(f"no answer from {url}")

    @manager.task()
    async def export_csv(table: str) -> None:
        task_log(f"Exporting {table}")
        await asyncio.sleep(60)

    @manager.task(retries=1, delay=retry_delay)
    async def rebuild_index() -> None:
        context = get_task_context()
        if context is not None and context.attempt == 0:
            task_log("Scanning shards")
            raise RuntimeError("shard 3 unavailable")
        task_log("Scanning shards again")
        await asyncio.sleep(60)

    @manager.task(queue="media")
    async def make_thumbnail(image: str) -> None:
        task_log(f"Thumbnail of {image}")

    app = FastAPI()
    TaskAdmin(app, manager)
    functions: dict[str, Callable[..., Any]] = {
        "welcome": send_welcome,
        "invoices": sync_invoices,
        "report": send_report,
        "ping": ping_partner,
        "export": export_csv,
        "index": rebuild_index,
    }
    tasks_dependency = Depends(manager.background_tasks)

    @app.post("/jobs/{kind}")
    def enqueue(
        kind: str, args: list[Any], tasks: ManagedBackgroundTasks = tasks_dependency
    ) -> dict[str, str]:
        return {"task_id": tasks.add_task(functions[kind], *args)}

    @app.post("/thumbnails")  # async: on the event loop, so the queue's drainer cannot run between the two
    async def thumbnails(
        images: list[str], tasks: ManagedBackgroundTasks = tasks_dependency
    ) -> dict[str, Any]:
        accepted = []
        for image in images:
            try:
                accepted.append(tasks.add_task(make_thumbnail, image))
            except QueueFullError as exc:
                raise HTTPException(429, detail={"accepted": accepted, "error": str(exc)}) from exc
        return {"accepted": accepted}

    return app


def new_manager(backend: SnapshotBackend) -> TaskManager:
    """A TaskManager as an app configures it: a snapshot backend and named queues."""
    return TaskManager(
        snapshot_backend=backend,
        snapshot_interval=3600,
        queues={"default": QueueConfig(concurrency=8), "media": QueueConfig(concurrency=1, max_size=1)},
    )


def build_requeue_app(manager: TaskManager, retry_delay: float, *, restarted: bool) -> FastAPI:
    """An app with one task that is safe to run again from scratch, and the route that enqueues it."""

    @manager.task(retries=1, delay=retry_delay, requeue_on_interrupt=True, persist=True)
    async def reindex_catalog(shard: int) -> None:
        context = get_task_context()
        if not restarted:
            if context is not None and context.attempt == 0:
                task_log(f"Reindexing shard {shard}")
                raise RuntimeError("catalog locked")
            task_log(f"Reindexing shard {shard} again")
            await asyncio.sleep(60)
        task_log(f"Reindexing shard {shard} after the restart")
        task_log("Catalog reindexed")

    app = FastAPI()
    TaskAdmin(app, manager)
    tasks_dependency = Depends(manager.background_tasks)

    @app.post("/reindex/{shard}")
    def reindex(shard: int, tasks: ManagedBackgroundTasks = tasks_dependency) -> dict[str, str]:
        return {"task_id": tasks.add_task(reindex_catalog, shard)}

    return app


async def wait_for(client: httpx.AsyncClient, task_id: str, done: Callable[[dict[str, Any]], bool]) -> None:
    """Poll the dashboard API until the task's state satisfies `done` (10 s at most)."""
    for _ in range(1000):
        state = (await client.get(f"/tasks/{task_id}")).json()
        if done(state):
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"task {task_id} never got there: {state}")


def finished(state: dict[str, Any]) -> bool:
    """Whether a task reached a status that is stored."""
    return state["status"] in FINISHED


async def run_app(
    backend: SnapshotBackend,
    drive: Callable[[httpx.AsyncClient], Awaitable[None]],
    retry_delay: float,
    build: Callable[[TaskManager, float], FastAPI] = build_app,
) -> None:
    """Start the app's TaskManager, let `drive` send requests, then shut down as the app would."""
    manager = new_manager(backend)
    app = build(manager, retry_delay)
    await manager.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            await drive(client)
    finally:
        await manager.shutdown()
        await backend.close()


async def post_job(client: httpx.AsyncClient, kind: str, *args: Any) -> str:
    """Enqueue one task through the app's route; its task id."""
    response = await client.post(f"/jobs/{kind}", json=list(args))
    response.raise_for_status()
    return str(response.json()["task_id"])


async def drive_history(client: httpx.AsyncClient) -> None:
    """Send the requests that make every status, and wait until each task is where it should be."""
    ids = [await post_job(client, "welcome", email) for email in ("ana@example.com", "zoë@example.com")]
    ids.append(await post_job(client, "invoices", 7))
    ids.append(await post_job(client, "report", "2026-11-20"))
    ids.append(await post_job(client, "ping", "https://partner.example"))
    export = await post_job(client, "export", "orders")
    index = await post_job(client, "index")
    rejected = await client.post("/thumbnails", json=["a.png", "b.png"])
    assert rejected.status_code == 429, rejected.text
    ids.extend(rejected.json()["detail"]["accepted"])
    await wait_for(client, export, lambda state: state["status"] == "running" and bool(state["logs"]))
    (await client.post(f"/tasks/{export}/cancel")).raise_for_status()
    for task_id in [*ids, export]:
        await wait_for(client, task_id, finished)
    await wait_for(client, index, lambda state: state["retries_used"] == 1 and len(state["logs"]) == 3)
    ids.append(await post_job(client, "welcome", "last@example.com"))
    await wait_for(client, ids[-1], finished)


async def drive_one(client: httpx.AsyncClient) -> None:
    """Run one more quick task to its end."""
    await wait_for(client, await post_job(client, "welcome", "late@example.com"), finished)


def write_retried(backend: SnapshotBackend, task_id: str) -> str:
    """Start the app again on an existing store, retry a failed task through the dashboard API and let the
    new task finish; the new task's id."""
    new_ids: list[str] = []

    async def drive_retry(client: httpx.AsyncClient) -> None:
        response = await client.post(f"/tasks/{task_id}/retry")
        response.raise_for_status()
        new_ids.append(str(response.json()["task_id"]))
        await wait_for(client, new_ids[0], finished)

    asyncio.run(run_app(backend, drive_retry, FAST_RETRY_DELAY))
    return new_ids[0]


def write_history(backend: SnapshotBackend, retry_delay: float = FAST_RETRY_DELAY) -> None:
    """Write the whole scenario into `backend` (a fresh store)."""
    asyncio.run(run_app(backend, drive_history, retry_delay))


def write_one_task(backend: SnapshotBackend) -> None:
    """Start the app again on an existing store and run one more task."""
    asyncio.run(run_app(backend, drive_one, FAST_RETRY_DELAY))


async def run_requeued(new_backend: Callable[[], SnapshotBackend], retry_delay: float) -> None:
    """Interrupt `reindex_catalog` in its second attempt by a shutdown, then restart the app until the
    re-run task has succeeded."""
    task_ids: list[str] = []

    async def interrupt(client: httpx.AsyncClient) -> None:
        response = await client.post("/reindex/3")
        response.raise_for_status()
        task_ids.append(str(response.json()["task_id"]))
        await wait_for(client, task_ids[0], lambda state: len(state["logs"]) == 3)

    async def finish(client: httpx.AsyncClient) -> None:
        await wait_for(client, task_ids[0], lambda state: state["status"] == "success")

    first = partial(build_requeue_app, restarted=False)
    await run_app(new_backend(), interrupt, retry_delay, first)
    await run_app(new_backend(), finish, retry_delay, partial(build_requeue_app, restarted=True))


def write_requeued(new_backend: Callable[[], SnapshotBackend], retry_delay: float = FAST_RETRY_DELAY) -> None:
    """Write the interrupted and requeued task into a fresh store (`new_backend` opens it for each start)."""
    asyncio.run(run_requeued(new_backend, retry_delay))
