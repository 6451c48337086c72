"""A plugin written for the official ``imerit-ango`` 1.4.10 package, unchanged: the
differential suite runs it under the official runtime and under ours.

    python official_plugin.py KIND HUB_URL API_URL

KIND: ``batch`` (BatchModelPlugin; behaviour chosen by ``configJSON.mode``), ``export``
(ExportPlugin) or ``model`` (ModelPlugin).
"""
import inspect
import json
import logging
import sys
import time
from io import BytesIO

from imerit_ango.models.annotate import AnnotationPayload, Answer
from imerit_ango.plugins import BatchModelPlugin, ExportPlugin, ExportResponse, ModelPlugin, run

PLUGIN_ID = "plugin-0001"
SECRET = "plugin-secret-0001"


def batch(data):
    logger = data["logger"]
    config = json.loads(data.get("configJSON") or "{}")
    mode = config.get("mode", "echo")
    if mode == "raise":
        raise ValueError("boom: the model is unavailable")
    if mode == "sleep":
        logger.info("sleeping")
        time.sleep(float(config.get("seconds", 1)))
    logger.info("hello %s, %d tasks", "world", 3, foo="bar")
    logger.warning("extra wins over kwargs", step=1, extra={"step": 2, "session": "user-value"})
    logger.error("bad format %d", "not a number")
    logger.debug("debug line")
    logger.log(15, "custom level")
    return {
        "message": "done",
        "keys": sorted(k for k in data if k != "logger"),
        "batches": data["batches"],
        "logger_is_logger": isinstance(logger, logging.Logger),
        "projectId": data.get("projectId"),
    }


def export(data):
    generator = inspect.isgenerator(data["jsonExport"])
    rows = list(data["jsonExport"])
    data["logger"].info("exporting %d tasks", data["numTasks"])
    body = json.dumps({"numTasks": data["numTasks"], "generator": generator, "assets": [r["externalId"] for r in rows],
                       "keys": sorted(k for k in data if k not in ("logger", "jsonExport"))})
    return ExportResponse(file=BytesIO(body.encode()), file_name="out-" + data["session"] + ".json")


def model(data):
    task = data.get("taskId")
    data["logger"].info("predicting %s", task)
    answer = Answer(objects=[{"objectId": "new-" + str(task), "schemaId": "tool-1"}],
                    classifications=[{"schemaId": "cls-1", "answer": "new"}])
    return AnnotationPayload(answer=answer)


def main():
    kind, hub, api = sys.argv[1:4]
    if kind == "batch":
        plugin = BatchModelPlugin(PLUGIN_ID, SECRET, batch)
    elif kind == "export":
        plugin = ExportPlugin(PLUGIN_ID, SECRET, export, host=api)
    elif kind == "model":
        plugin = ModelPlugin(PLUGIN_ID, SECRET, model, host=api, concurrency=2)
    else:
        raise SystemExit(f"unknown kind {kind}")
    run(plugin, host=hub)


if __name__ == "__main__":
    main()
