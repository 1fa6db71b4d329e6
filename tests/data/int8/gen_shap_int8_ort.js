// Exact 8-channel Shapley values of the int8 Aurora MLP (aurora/mlp_int8_qdq.onnx) as ONNX Runtime
// computes the model: for each of the 20 reference windows (the "windows" of
// explain/shap_groups_mlp.json, indices into data/windows.json), every one of the 256 coalitions
// S x the 50 background windows of explain/background.json is scored by onnxruntime-node 1.30.0
// (CPU, graph optimizations disabled), v(S) = mean over the background of the score of x_S
// with b elsewhere (a channel's whole row of 36 values), and phi_i = sum over S without i of
// |S|! (M - |S| - 1)! / M! (v(S + i) - v(S)), all in float64. Writes shap_groups_mlp_int8_ort.json.
// Usage (from this folder): node gen_shap_int8_ort.js /path/to/node_modules/onnxruntime-node
const fs = require('fs');
const ort = require(process.argv[2]);
const C = 8, T = 36, CT = C * T, NB = 50, M = 8, NS = 1 << M;
const W = JSON.parse(fs.readFileSync('../data/windows.json', 'utf8')).windows;
const B = JSON.parse(fs.readFileSync('../explain/background.json', 'utf8')).values;
const idx = JSON.parse(fs.readFileSync('../explain/shap_groups_mlp.json', 'utf8')).windows;
const flat = w => { const a = new Float32Array(CT); for (let c = 0; c < C; c++) for (let t = 0; t < T; t++) a[c * T + t] = w[c][t]; return a; };
const bg = B.map(flat);
const fact = n => (n <= 1 ? 1 : n * fact(n - 1));
(async () => {
  const s = await ort.InferenceSession.create('../aurora/mlp_int8_qdq.onnx', {graphOptimizationLevel: 'disabled', intraOpNumThreads: 1});
  const score = async (x, n) => (await s.run({x: new ort.Tensor('float32', x, [n, C, T])}))[s.outputNames[0]].data;
  const xb = new Float32Array(NB * CT);
  bg.forEach((b, i) => xb.set(b, i * CT));
  const yb = await score(xb, NB);
  let ef = 0;
  for (let i = 0; i < NB; i++) ef += yb[i];
  ef /= NB;
  const out = {tool: 'onnxruntime-node 1.30.0, graphOptimizationLevel disabled, 1 thread; Shapley by enumeration in float64', model: 'aurora/mlp_int8_qdq.onnx', windows: idx, f_x: [], E_f_background: ef, v: [], exact: []};
  for (const wi of idx) {
    const x = flat(W[wi].values);
    const rows = new Float32Array(NS * NB * CT);
    for (let S = 0; S < NS; S++)
      for (let b = 0; b < NB; b++) {
        const o = (S * NB + b) * CT;
        for (let c = 0; c < C; c++) rows.set(((S >> c) & 1 ? x : bg[b]).subarray(c * T, (c + 1) * T), o + c * T);
      }
    const y = await score(rows, NS * NB);
    const v = new Float64Array(NS);
    for (let S = 0; S < NS; S++) { let a = 0; for (let b = 0; b < NB; b++) a += y[S * NB + b]; v[S] = a / NB; }
    const phi = new Array(M).fill(0);
    for (let i = 0; i < M; i++)
      for (let S = 0; S < NS; S++) {
        if ((S >> i) & 1) continue;
        let k = 0; for (let j = 0; j < M; j++) k += (S >> j) & 1;
        phi[i] += fact(k) * fact(M - k - 1) / fact(M) * (v[S | (1 << i)] - v[S]);
      }
    out.f_x.push((await score(x, 1))[0]);
    out.v.push(Array.from(v));
    out.exact.push(phi);
  }
  fs.writeFileSync('shap_groups_mlp_int8_ort.json', JSON.stringify(out));
  console.log('windows', idx.length, 'E_f', ef);
})().catch(e => { console.error(e); process.exit(1); });
