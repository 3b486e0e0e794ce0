"""Evaluating learned features without labels in training: nearest-neighbour retrieval
and a linear probe (Hjelm et al. 2019, sec. 4 evaluate Deep InfoMax this way)."""

import numpy as np

METRICS = ('cosine', 'l2')


def nearest_neighbour_accuracy(features, labels, metric: str = 'cosine') -> float:
    """Fraction of examples whose nearest *other* example (leave-one-out) has the same label.

    ``metric``: 'cosine' (largest cosine similarity) or 'l2' (smallest Euclidean distance).
    """
    if metric not in METRICS:
        raise ValueError(f'unknown metric {metric!r}; use one of {list(METRICS)}')
    features, labels = np.asarray(features, np.float64), np.asarray(labels)
    if len(features) < 2 or len(features) != len(labels):
        raise ValueError(f'need at least two examples with one label each, got {len(features)} and {len(labels)}')
    if metric == 'cosine':
        unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
        scores = unit @ unit.T
    else:
        squared = np.sum(features**2, axis=1)
        scores = -(squared[:, None] + squared[None] - 2 * features @ features.T)
    np.fill_diagonal(scores, -np.inf)
    return float(np.mean(labels[np.argmax(scores, axis=1)] == labels))


def participation_ratio(features) -> float:
    """(sum_k lambda_k)^2 / sum_k lambda_k^2 over the eigenvalues of the features' covariance.

    The number of directions the variance spreads over: d for isotropic features, 1 when one
    direction holds it all (a collapsed code, whose distances that direction dominates).
    """
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f'need features of shape (N >= 2, d), got {features.shape}')
    eigenvalues = np.clip(np.linalg.eigvalsh(np.cov(features, rowvar=False).reshape(features.shape[1], -1)), 0, None)
    total = eigenvalues.sum()
    return float(total**2 / np.sum(eigenvalues**2)) if total > 0 else 0.0


def linear_probe_accuracy(train_features, train_labels, test_features, test_labels, max_iter: int = 2000) -> float:
    """Test accuracy of a multinomial logistic regression fit on frozen, standardised features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(np.asarray(train_features), np.asarray(train_labels))
    return float(probe.score(np.asarray(test_features), np.asarray(test_labels)))


def cross_validated_probe_accuracy(features, labels, folds: int = 2, seed: int = 0) -> float:
    """The linear probe's accuracy averaged over ``folds`` splits of one set of examples.

    For when only one split's features are at hand (the loop evaluates one split at a time).
    """
    from sklearn.model_selection import StratifiedKFold

    features, labels = np.asarray(features), np.asarray(labels)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return float(
        np.mean(
            [
                linear_probe_accuracy(features[a], labels[a], features[b], labels[b])
                for a, b in splitter.split(features, labels)
            ]
        )
    )


def with_labels(values: dict, batch: dict) -> dict:
    """Per-example ``values`` plus the batch's labels where it has them, for a summary that
    scores an unsupervised output (codes, clusters) against the labels."""
    return {**values, 'label': batch['label']} if 'label' in batch else values


def split_summary(values: dict, key: str):
    """(values[key], the labels or None, {name: mean} of every other value): a summary's parts."""
    rest = dict(values)
    kept, labels = rest.pop(key), rest.pop('label', None)
    return kept, labels, {name: float(np.mean(v)) for name, v in rest.items()}
