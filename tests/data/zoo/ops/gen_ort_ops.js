// Runs every graph of ops.txt on its input <name>.x.f32 with ONNX Runtime (onnxruntime-node
// 1.30.0, graph optimizations disabled) and writes <name>.ort0.f32 and <name>.shape.txt.
// Usage (from this directory): node gen_ort_ops.js /path/to/node_modules/onnxruntime-node
const fs = require('fs');
const ort = require(process.argv[2]);
(async () => {
  for (const line of fs.readFileSync('ops.txt', 'utf8').trim().split('\n')) {
    const [name, rank, ...dims] = line.split(' ');
    const shape = dims.slice(0, +rank).map(Number);
    const b = fs.readFileSync(`${name}.x.f32`);
    const x = new ort.Tensor('float32', new Float32Array(b.buffer, b.byteOffset, b.length / 4), shape);
    const s = await ort.InferenceSession.create(`${name}.onnx`, {graphOptimizationLevel: 'disabled'});
    const r = await s.run({x});
    const y = r[s.outputNames[0]];
    fs.writeFileSync(`${name}.ort0.f32`, Buffer.from(new Float32Array(y.data).buffer));
    fs.writeFileSync(`${name}.shape.txt`, y.dims.join(' ') + '\n');
    console.log(name, y.dims.join('x'));
  }
})().catch(e => { console.error(e); process.exit(1); });
