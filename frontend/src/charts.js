/**
 * ECharts as the dashboard uses it, and nothing more: bar, line and pie charts with axes, tooltips
 * and legends, drawn on a canvas. Built by ../build.sh into service/static/vendor/echarts/echarts.min.js
 * as an IIFE that sets `window.echarts` (init, use), a third the size of ECharts whole.
 */
import { init, use } from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export { init, use };
