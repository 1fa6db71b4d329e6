// ONNX Runtime outputs of the tree test models (tests/data/trees/*.onnx) for tests/test_trees.c.
// Usage: node tests/data/trees/ort_trees.js /path/to/node_modules   (onnxruntime-node 1.30.0,
// installed with `npm install --ignore-scripts onnxruntime-node` in a scratch folder).
// Inputs: the eval windows named in shap_refs.json (from tests/data/data/windows.json, flattened
// channel-major), the 50 background windows (tests/data/explain/background.json) and the
// synthetic rows of inputs.json (null = NaN). One intra-op thread: trees are summed in order.
const path = require('path');
const fs = require('fs');
const ort = require(path.join(process.argv[2], 'onnxruntime-node'));
const here = __dirname;
const root = path.join(here, '..', '..', '..');

async function run(file, feeds, fetches) {
  try {
    const s = await ort.InferenceSession.create(path.join(here, file),
      {intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled'});
    return await s.run(feeds, fetches || s.outputNames);
  } catch (e) {
    return {error: String(e)};
  }
}

function tensorOut(r) {
  const o = {};
  for (const k of Object.keys(r)) {
    if (k === 'error') { o.error = r.error; continue; }
    const t = r[k];
    if (t && t.data !== undefined && t.dims !== undefined) {
      o[k] = {dims: t.dims.map(Number),
        data: t.type === 'string' ? Array.from(t.data) : Array.from(t.data, (v) => Number(v))};
    } else {
      o[k] = {nontensor: JSON.stringify(t).slice(0, 200)};
    }
  }
  return o;
}

(async () => {
  const refs = JSON.parse(fs.readFileSync(path.join(here, 'shap_refs.json')));
  const inputs = JSON.parse(fs.readFileSync(path.join(here, 'inputs.json')));
  const W = JSON.parse(fs.readFileSync(path.join(root, 'tests/data/data/windows.json'))).windows;
  const B = JSON.parse(fs.readFileSync(path.join(root, 'tests/data/explain/background.json'))).values;
  const rows = [];
  for (const i of refs.eval_windows) rows.push(W[i].values.flat());
  for (const b of B) rows.push(b.flat());
  const n = rows.length;
  const flat = new Float32Array(rows.flat());
  const out = {ort: 'onnxruntime-node ' + require(path.join(process.argv[2], 'onnxruntime-node', 'package.json')).version,
               rows: 'eval_windows then the 50 background windows', models: {}};
  const window_models = {
    gbc_flat: [n, 288], gbc_flat_nozipmap: [n, 288], rf_nct: [n, 8, 36], rf_nct_nozipmap: [n, 8, 36],
    gbr_scaled: [n, 288], xgb_flat: [n, 288], gbc_chmean: [n, 8, 36],
    gbc_chmean_nozipmap: [n, 8, 36], gbc_deep: [n, 288], gbc_afe: [n, 288]};
  for (const [name, dims] of Object.entries(window_models)) {
    const feeds = {input: new ort.Tensor('float32', flat, dims)};
    let r = await run(name + '.onnx', feeds);
    if (r.error) {  // a ZipMap output: fetch the label only
      out.models[name + '_full_error'] = r.error;
      r = await run(name + '.onnx', feeds, ['output_label']);
    }
    out.models[name] = tensorOut(r);
  }
  const syn = inputs.synthetic.map((r) => r.map((v) => (v === null ? NaN : v)));
  const sflat = new Float32Array(syn.flat());
  const clean = syn.filter((r) => r.every((v) => !Number.isNaN(v)));
  for (const name of inputs.synthetic_models) {
    const feeds = {input: new ort.Tensor('float32', sflat, [syn.length, syn[0].length])};
    let r = tensorOut(await run(name + '.onnx', feeds));
    if (r.error) {  // e.g. ORT's Binarizer refuses NaN input: the rows without NaN only
      const e = r.error;
      r = tensorOut(await run(name + '.onnx',
        {input: new ort.Tensor('float32', new Float32Array(clean.flat()), [clean.length, syn[0].length])}));
      r.nan_rows_dropped = e;
    }
    out.models[name] = r;
  }
  fs.writeFileSync(path.join(here, 'ort_outputs.json'), JSON.stringify(out));
})();
