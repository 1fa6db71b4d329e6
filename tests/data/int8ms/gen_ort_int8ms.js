// Runs every case of cases.json (gen_int8ms.py) through ONNX Runtime (onnxruntime-node 1.30.0,
// CPU, one thread, graph optimizations disabled) and writes refs.json: the cases with their
// outputs ({name, dtype, dims, data}), or {error} where ONNX Runtime refuses the graph.
// Usage (from this folder): node gen_ort_int8ops.js /path/to/node_modules/onnxruntime-node
const fs = require('fs');
const ort = require(process.argv[2]);
const T = {float32: Float32Array, uint8: Uint8Array, int8: Int8Array, int32: Int32Array};
(async () => {
  const {cases} = JSON.parse(fs.readFileSync('cases.json', 'utf8'));
  for (const c of cases) {
    try {
      const s = await ort.InferenceSession.create(c.model, {graphOptimizationLevel: 'disabled', intraOpNumThreads: 1});
      const feeds = {};
      for (const i of c.inputs) feeds[i.name] = new ort.Tensor(i.dtype, T[i.dtype].from(i.data), i.dims);
      const r = await s.run(feeds);
      c.outputs = s.outputNames.map(o => ({name: o, dtype: r[o].type, dims: r[o].dims, data: Array.from(r[o].data)}));
      console.log(c.model, 'ok', c.outputs.map(o => o.dtype + '[' + o.dims + ']').join(' '));
    } catch (e) {
      c.error = String(e.message || e).split('\n')[0];
      console.log(c.model, 'ERROR', c.error);
    }
  }
  fs.writeFileSync('refs.json', JSON.stringify({tool: 'onnxruntime-node 1.30.0, CPU, 1 thread, graphOptimizationLevel disabled', cases}));
})().catch(e => { console.error(e); process.exit(1); });
