"""Classifiers: model specs, adapters with normalization inside, preprocessing, the paper's zoo."""
