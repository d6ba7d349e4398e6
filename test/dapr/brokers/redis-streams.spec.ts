import { brokerMatrix } from './matrix';

brokerMatrix('redis-streams');
