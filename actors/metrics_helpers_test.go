package actors

import dto "github.com/prometheus/client_model/go"

type dtoMetric struct{ Metric dto.Metric }

func (d *dtoMetric) value() float64 {
	switch {
	case d.Metric.Counter != nil:
		return d.Metric.Counter.GetValue()
	case d.Metric.Gauge != nil:
		return d.Metric.Gauge.GetValue()
	}
	return 0
}
