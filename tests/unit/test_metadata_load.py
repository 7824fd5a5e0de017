"""Every modal's private metadata reads back through the one ``Meta.load``: what the bot
wrote comes back as written; metadata that is not ours (malformed, crafted, out of range)
reads as the defaults rather than failing."""

from __future__ import annotations

import pytest

from handlers.actions.meta import ActionMeta
from handlers.corrections import TextMeta
from handlers.feedback import FeedbackMeta
from handlers.forum import MoveMeta
from handlers.metadata import ID_MAX, DeviationMeta, Meta, ViewMeta
from handlers.ratings.base import RatingMeta
from handlers.steering import SteeringMeta

METAS: list[type[Meta]] = [
    ActionMeta,
    DeviationMeta,
    FeedbackMeta,
    MoveMeta,
    RatingMeta,
    SteeringMeta,
    TextMeta,
    ViewMeta,
]


@pytest.mark.parametrize("meta", METAS)
@pytest.mark.parametrize(
    "raw", [None, "", "{", "[]", '"x"', '{"locale": "de"}', f'{{"forum_id": {ID_MAX + 1}}}']
)
def test_metadata_not_ours_reads_as_the_defaults(meta: type[Meta], raw: str | None) -> None:
    loaded = meta.load(raw)
    assert type(loaded) is meta
    assert loaded == meta()


@pytest.mark.parametrize("meta", METAS)
def test_metadata_written_reads_back_as_written(meta: type[Meta]) -> None:
    written = meta.model_validate({"locale": "en"})
    assert meta.load(written.model_dump_json()) == written
    assert meta.load(written.model_dump_json()).locale == "en"  # type: ignore[attr-defined]
