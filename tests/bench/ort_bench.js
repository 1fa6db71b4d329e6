// ONNX Runtime peer for bench_engine: times the Aurora mlp and cnn1d on the same batch (the
// 1,716 reference windows tiled to 100,000 rows), default session options with 1 and 2 intra-op
// threads. Install once: (cd tests/bench/ort && npm install --ignore-scripts onnxruntime-node)
// usage: node tests/bench/ort_bench.js [batch] [repeats]
'use strict';
const path = require('path');
const fs = require('fs');
const ort = require(path.join(__dirname, 'ort', 'node_modules', 'onnxruntime-node'));

const root = path.join(__dirname, '..', 'data', 'aurora');
const batch = parseInt(process.argv[2] || '100000', 10);
const repeats = parseInt(process.argv[3] || '5', 10);

async function main() {
  const w = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'data', 'data', 'windows.json'), 'utf8'));
  const C = w.channels.length, T = w.T, ct = C * T;
  const x = new Float32Array(batch * ct);
  for (let i = 0; i < batch; i++) {
    const v = w.windows[i % w.windows.length].values;
    for (let c = 0; c < C; c++) for (let t = 0; t < T; t++) x[i * ct + c * T + t] = v[c][t];
  }
  for (const model of ['mlp.onnx', 'cnn1d.onnx']) {
    for (const threads of [1, 2]) {
      const s = await ort.InferenceSession.create(path.join(root, model), {
        intraOpNumThreads: threads, interOpNumThreads: 1,
      });
      const feeds = { x: new ort.Tensor('float32', x, [batch, C, T]) };
      await s.run(feeds);
      let best = 1e9;
      for (let r = 0; r < repeats; r++) {
        const t0 = process.hrtime.bigint();
        await s.run(feeds);
        const dt = Number(process.hrtime.bigint() - t0) / 1e9;
        best = Math.min(best, dt);
      }
      console.log(`ORT ${model.padEnd(11)} batch ${batch}, ${threads} thread(s): ` +
                  `${(best * 1e3).toFixed(3)} ms, ${(batch / best / 1e6).toFixed(3)} M rows/s`);
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
