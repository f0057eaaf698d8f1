"""Operations: what Airflow and the command line call, on top of every stage.

Holds the Airflow support layer (:mod:`~include.ops.airflow_support`: default args, Assets, connections), the
stage entry points the DAGs call (:mod:`~include.ops.stages`), backfill plans and replays
(:mod:`~include.ops.backfill`, :mod:`~include.ops.replay`), the nightly readiness rule
(:mod:`~include.ops.readiness`), designers' feedback (:mod:`~include.ops.feedback`), alerts, ``fti status``, the
project-local Airflow CLI and standalone (:mod:`~include.ops.airflow_cli`, :mod:`~include.ops.standalone`,
:mod:`~include.ops.run_dags`), ``make demo`` (:mod:`~include.ops.demo`) and ``fti`` itself
(:mod:`~include.ops.cli`). May import every stage package (``crawlers``, ``embedding``, ``training``,
:mod:`include.trends`, :mod:`include.reports`), the demo world and the rooms below them; only ``dags/`` imports
it.
"""
