// What every dashboard page draws with: plotly.js core (which always holds `scatter`) and `bar`.
import Plotly from "plotly.js/lib/core";
import bar from "plotly.js/lib/bar";

Plotly.register([bar]);
window.Plotly = Plotly;
export default Plotly;
