/*
 * whyflag: the library in one include. Each stage has its own public header under whyflag/;
 * data flows cli -> audit -> {report, explain, model, data, io} -> core (see README: Layout).
 */
#ifndef WHYFLAG_H
#define WHYFLAG_H

#include "whyflag/status.h"   /* status codes and the error struct (core) */
#include "whyflag/versions.h" /* versions of whyflag and of each linked library */
#include "whyflag/rng.h"      /* seeded random streams (core) */
#include "whyflag/windows.h"  /* windows, the unit everything works on */
#include "whyflag/data.h"     /* SCADA log -> windows, failures, labels (data) */
#include "whyflag/config.h"   /* config.json (io) */
#include "whyflag/predictor.h"
#include "whyflag/model.h"   /* ONNX models (model) */
#include "whyflag/engine.h"  /* the engine: forward, backward (model) */
#include "whyflag/explain.h" /* KernelSHAP, Integrated Gradients (explain) */
#include "whyflag/results.h"
#include "whyflag/report.h"   /* results.json, PDF, XLSX, manifest (report) */
#include "whyflag/manifest.h" /* manifest.json read back and verified */
#include "whyflag/drift.h"    /* drift statistics (audit) */
#include "whyflag/audit.h"    /* the main job: run, run a shard, merge (audit) */

#endif
