"""The train_embedder DAG as Airflow's DagBag loads it."""

from __future__ import annotations

from pathlib import Path

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "train_embedder.py"


def test_train_embedder_is_scheduled_on_labelled_data_and_emits_the_model_on_promotion():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    dag = bag.dags["train_embedder"]
    condition = dag.timetable.asset_condition
    assert {a.name for a in getattr(condition, "objects", [condition])} == {"fti_labelled_data"}
    outlets = {t.task_id: {a.name for a in t.outlets} for t in dag.tasks}
    assert outlets == {"plan": set(), "train": set(), "publish": {"fti_embedding_model"}}
    assert dag.catchup is False and dag.tags and all(t.retries >= 2 for t in dag.tasks)
    assert [t.task_id for t in dag.get_task("publish").upstream_list] == ["train"]
