// ONNX Runtime peer for bench_rnn: the same zoo GRU/LSTM models and batch (the 16 zoo windows
// tiled), graph optimizations disabled as in the zoo references, 1 and 2 intra-op threads.
// Install once: (cd tests/bench/ort && npm install --ignore-scripts onnxruntime-node)
// usage: node tests/bench/ort_rnn.js [batch] [repeats] [path/to/onnxruntime-node] [model|all] [threads]
'use strict';
const path = require('path');
const fs = require('fs');
const ort = require(process.argv[4] || path.join(__dirname, 'ort', 'node_modules', 'onnxruntime-node'));

const zoo = path.join(__dirname, '..', 'data', 'zoo');
const batch = parseInt(process.argv[2] || '4096', 10);
const repeats = parseInt(process.argv[3] || '3', 10);

async function main() {
  const C = 8, T = 36, ct = C * T;
  const raw = fs.readFileSync(path.join(zoo, 'windows.f32'));
  const base = new Float32Array(raw.buffer, raw.byteOffset, 16 * ct);
  const x = new Float32Array(batch * ct);
  for (let i = 0; i < batch; i++) x.set(base.subarray((i % 16) * ct, (i % 16 + 1) * ct), i * ct);
  for (const m of ['gru1_d17', 'gru2_d17', 'lstm1_d17', 'lstm2_d17']) {
    if (process.argv[5] && process.argv[5] !== 'all' && process.argv[5] !== m) continue;
    for (const threads of [1, 2]) {
      if (process.argv[6] && parseInt(process.argv[6], 10) !== threads) continue;
      const s = await ort.InferenceSession.create(path.join(zoo, m + '.onnx'), {
        intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'disabled',
      });
      const feeds = {};
      feeds[s.inputNames[0]] = new ort.Tensor('float32', x, [batch, C, T]);
      await s.run(feeds);
      let best = 1e9, bestCpu = 1e9;
      for (let r = 0; r < repeats; r++) {
        const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
        await s.run(feeds);
        best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
        const c = process.cpuUsage(c0);  // user + system of the process, microseconds
        bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
      }
      console.log(`ORT     ${m.padEnd(10)} batch ${batch}, ${threads} thread(s): ` +
                  `${(best * 1e3).toFixed(3).padStart(8)} ms, ${(batch / best / 1e6).toFixed(3)} M windows/s, ` +
                  `cpu ${(bestCpu * 1e3).toFixed(3).padStart(8)} ms`);
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
