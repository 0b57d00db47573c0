// The WebGL traces of the sweep page, loaded on demand: they register into the same Plotly
// (core lives in a chunk both entries share, so there is one registry).
import Plotly from "plotly.js/lib/core";
import parcoords from "plotly.js/lib/parcoords";
import scatter3d from "plotly.js/lib/scatter3d";

Plotly.register([parcoords, scatter3d]);
export default Plotly;
