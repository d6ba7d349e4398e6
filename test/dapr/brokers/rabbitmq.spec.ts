import { brokerMatrix } from './matrix';

brokerMatrix('rabbitmq');
