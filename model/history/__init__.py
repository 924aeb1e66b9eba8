"""The rolling-origin hindcast: how the model and its statistical rivals forecast history.

``data`` (what an origin may know), ``baselines`` and ``regression`` (the rivals),
``simulate`` (the model's replication ensemble, projected or fed what happened), ``scores``,
``harness`` (origins, modes, tuning on validation origins only), ``tables`` and ``report``
(CSV tables and one self-contained report.html). ``blocsim history`` runs it
(docs/model.md section 12).
"""
