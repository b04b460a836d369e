"""pytest-xdist's load scheduling, without spreading one dataset's items over workers.

A dataset's items share one scan (see :mod:`pytest_finetune.nodes`). With an item per
check (``items = "check"``, or ``-k``), ``--dist load`` would cut a file's fifty items
between batches, and each worker that ran some of them would scan the whole file.
This scheduler sends batches as xdist's does, each stretched to the end of the file
of its last item: a file's items go to one worker, and the file is scanned once.
With one item per dataset (the default) the batches are xdist's own.

Imported only by xdist's ``pytest_xdist_make_scheduler`` hook: pytest-xdist is not a
dependency.
"""

from __future__ import annotations

from xdist.scheduler import LoadScheduling
from xdist.workermanage import WorkerController


def dataset_of(nodeid: str) -> str | None:
    """The file whose items must stay together: any file but a Python module.

    A Python module's tests are independent, and xdist spreads them as it always has;
    datasets (and other plugins' files of items) keep their items together.
    """
    path, separator, _name = nodeid.partition("::")
    if not separator or path.endswith(".py"):
        return None
    return path


class DatasetScheduling(LoadScheduling):  # type: ignore[misc]  # xdist has no types
    """``--dist load``, with each batch ending at the end of a dataset's items."""

    def _send_tests(self, node: WorkerController, num: int) -> None:
        pending = self.pending
        collection = self.collection
        if collection is not None and 0 < num < len(pending):
            last = dataset_of(collection[pending[num - 1]])
            while (
                last is not None
                and num < len(pending)
                and dataset_of(collection[pending[num]]) == last
            ):
                num += 1
        super()._send_tests(node, num)
