import { AppError } from '../common/errors';

export const HealthErrors = {
  metricsTokenRequired(): AppError {
    return new AppError('UNAUTHENTICATED', 'GET /metrics needs the METRICS_TOKEN as a bearer token');
  },
};
