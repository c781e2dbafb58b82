"""Label history of categorical keys (target encoding) for the claim model's design matrix.

For the outlet, its kind, the topics and each metadata field: the smoothed share of each label
among the training claims with the same key, plus log evidence. Training claims get out-of-fold
values (k-fold, counts rescaled to the full table's size), new claims the table of all training
claims: a claim never sees its own label.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import KFold

from scoring.features import (
    OUTLET_KIND,
    OUTLET_RECORD,
    TOPICS,
    ClaimContext,
    FeatureRow,
    token_group,
)

_OUTLET_KEY = "outlet="


def history_keys(context: ClaimContext, row: FeatureRow) -> list[str]:
    """The claim's categorical keys: its indicator tokens plus its outlet."""
    keys = list(row.tokens)
    outlet = context.outlet.strip().lower()
    if outlet:
        keys.append(_OUTLET_KEY + outlet)
    return keys


def history_group(key: str) -> str:
    """The explanation group of a history key (the outlet's history is part of its record)."""
    if key.startswith(_OUTLET_KEY):
        return OUTLET_RECORD
    return token_group(key)


def history_groups(keys: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """The history groups of a training set: outlet, kind, topics, then metadata fields."""
    metadata = sorted(
        {history_group(key) for row_keys in keys for key in row_keys}
        - {OUTLET_RECORD, OUTLET_KIND, TOPICS}
    )
    return (OUTLET_RECORD, OUTLET_KIND, TOPICS, *metadata)


class History:
    """Smoothed label distribution of every categorical key seen in training.

    For each group (outlet, outlet kind, topics, each metadata field) a claim gets the log of
    its key's label shares, shrunk toward the overall shares by ``strength`` pseudo-claims
    (averaged over the claim's keys in that group, e.g. several topics), and log(1 + claims
    behind it). A key never seen gets the overall shares and no evidence. ``scale`` multiplies
    the counts: a table built from (k - 1) of k folds uses k / (k - 1), so out-of-fold columns
    have the magnitudes the full table gives new claims.
    """

    def __init__(
        self,
        keys: Sequence[Sequence[str]],
        encoded: np.ndarray,
        *,
        n_classes: int,
        groups: tuple[str, ...],
        strength: float,
        scale: float = 1.0,
    ) -> None:
        self.groups = groups
        self.n_classes = n_classes
        self.strength = strength
        group_id = {group: i for i, group in enumerate(groups)}
        self.index: dict[str, int] = {}
        key_group: list[int] = []
        ids: list[int] = []
        labels: list[int] = []
        for row_keys, label in zip(keys, encoded.tolist(), strict=True):
            for key in row_keys:
                found = self.index.get(key)
                if found is None:
                    group = group_id.get(history_group(key))
                    if group is None:
                        continue
                    found = self.index[key] = len(key_group)
                    key_group.append(group)
                ids.append(found)
                labels.append(label)
        self.key_group = np.asarray(key_group, dtype=np.intp)
        self.counts = np.zeros((len(key_group), n_classes))
        np.add.at(self.counts, (np.asarray(ids, dtype=np.intp), np.asarray(labels)), scale)
        frequencies = np.bincount(encoded, minlength=n_classes).astype(float)
        self.prior = (frequencies + 1.0) / (frequencies.sum() + n_classes)
        self.width = len(groups) * (n_classes + 1)

    def transform(self, keys: Sequence[Sequence[str]]) -> np.ndarray:
        """History columns of each claim: per group, log shares then log(1 + evidence)."""
        n = len(keys)
        n_groups = len(self.groups)
        index = self.index
        rows: list[int] = []
        ids: list[int] = []
        for i, row_keys in enumerate(keys):
            for key in row_keys:
                found = index.get(key)
                if found is not None:
                    rows.append(i)
                    ids.append(found)
        counts = np.zeros((n, n_groups, self.n_classes))
        if ids:
            id_array = np.asarray(ids, dtype=np.intp)
            # One cell per (claim, group); bincount sums far faster than np.add.at.
            cell = np.asarray(rows, dtype=np.intp) * n_groups + self.key_group[id_array]
            size = n * n_groups
            per_cell = np.bincount(cell, minlength=size).astype(float)
            gathered = self.counts[id_array]
            flat = counts.reshape(size, self.n_classes)
            for k in range(self.n_classes):
                flat[:, k] = np.bincount(cell, weights=gathered[:, k], minlength=size)
            flat /= np.maximum(per_cell, 1.0)[:, np.newaxis]
        total = counts.sum(axis=2)
        shares = (counts + self.strength * self.prior) / (total + self.strength)[:, :, np.newaxis]
        columns = np.concatenate([np.log(shares), np.log1p(total)[:, :, np.newaxis]], axis=2)
        return columns.reshape(n, self.width)


def out_of_fold_history(
    keys: Sequence[Sequence[str]],
    encoded: np.ndarray,
    groups: tuple[str, ...],
    *,
    n_classes: int,
    strength: float,
    n_folds: int,
    random_state: int,
) -> np.ndarray:
    """History columns of training claims, each computed without its own fold's labels.

    K-fold, not leave-one-out: a leave-one-out share moves by a fixed amount with the claim's
    own label, which a flexible model can learn.
    """
    n = len(keys)
    k = min(n_folds, n)
    folds = KFold(k, shuffle=True, random_state=random_state)
    result = np.zeros((n, len(groups) * (n_classes + 1)))
    for train, test in folds.split(np.zeros(n)):
        table = History(
            [keys[i] for i in train],
            encoded[train],
            n_classes=n_classes,
            groups=groups,
            strength=strength,
            scale=k / (k - 1),
        )
        result[test] = table.transform([keys[i] for i in test])
    return result
