import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth.decorators';
import { ClientContext } from '../identity/identity.hooks';
import { Client } from '../identity/request-context';
import { StepUpDto } from './dto/account-guard.dto';
import { StepUpService } from './step-up.service';
import { ApiProblems } from '../common/api-problems';
import { LoginResultDto } from '../identity/dto/views';

@ApiTags('auth')
@Controller('auth')
export class StepUpController {
  constructor(private readonly stepUp: StepUpService) {}

  /** Completes a login answered with 401 STEP_UP_REQUIRED; answers like POST /auth/login. */
  @Post('step-up')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Complete a login answered with STEP_UP_REQUIRED, with the TOTP or emailed code' })
  @ApiOkResponse({ type: LoginResultDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    ['INVALID_TOKEN', 'the challenge is unknown, used or expired'],
    ['INVALID_CREDENTIALS', 'wrong code (`attemptsLeft`)'],
  )
  complete(@Body() dto: StepUpDto, @Client() client: ClientContext) {
    return this.stepUp.complete(dto.challengeId, dto.code, client);
  }
}
