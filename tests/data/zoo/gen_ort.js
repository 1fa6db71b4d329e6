// Scores every model of models.txt on windows.f32 with ONNX Runtime (onnxruntime-node 1.30.0,
// graph optimizations disabled) and writes <name>.ort<k>.f32 (output k, all 16 windows).
// ORT rejects RNN layout 1: those models are scored through their layout-0 twin (same weights,
// written by gen_zoo.py as <name without _layout1>_twin0.onnx). Models whose input declares batch 1 run one window per call. Usage:
//   node gen_ort.js /path/to/node_modules/onnxruntime-node
const fs = require('fs');
const ort = require(process.argv[2]);
const N = 16, C = 8, T = 36;
const buf = fs.readFileSync('windows.f32');
const X = new Float32Array(buf.buffer, buf.byteOffset, N * C * T);
(async () => {
  for (const line of fs.readFileSync('models.txt', 'utf8').trim().split('\n')) {
    const [name, nOut] = line.split(' ');
    const file = name.endsWith('_layout1') ? `${name.slice(0, -8)}_twin0.onnx` : `${name}.onnx`;
    const s = await ort.InferenceSession.create(file, {graphOptimizationLevel: 'disabled'});
    const fixed = name.endsWith('_b1');
    const outs = s.outputNames.map(() => []);
    const runs = fixed ? N : 1, per = fixed ? 1 : N;
    for (let i = 0; i < runs; i++) {
      const x = new ort.Tensor('float32', X.slice(i * per * C * T, (i + 1) * per * C * T), [per, C, T]);
      const r = await s.run({x});
      s.outputNames.forEach((o, k) => outs[k].push(...r[o].data));
    }
    outs.forEach((o, k) => fs.writeFileSync(`${name}.ort${k}.f32`, Buffer.from(new Float32Array(o).buffer)));
    console.log(name, nOut, outs.map(o => o.length).join(','));
  }
})().catch(e => { console.error(e); process.exit(1); });
